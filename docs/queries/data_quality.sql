-- Data quality: references that point at nothing (before and after redirects), refused ISBNs, and the
-- columns filled in fewer than half of their table's rows.
SET VARIABLE below = 0.5;
SELECT measure, table_name, column_name, detail, count, total, round(share, 3) AS share
FROM data_quality
WHERE measure <> 'filled' OR share < getvariable('below')
ORDER BY measure, table_name, column_name, detail;
