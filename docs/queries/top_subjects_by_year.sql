-- Top subjects by year: the three subjects with the most works first published in each year since 1990.
SET VARIABLE since = 1990;
SELECT d.first_publish_year AS year, s.subject, count(DISTINCT d.work_key) AS works
FROM dim_work AS d
CROSS JOIN unnest(d.subjects) AS s(subject)
WHERE d.first_publish_year >= getvariable('since')
GROUP BY year, s.subject
QUALIFY row_number() OVER (PARTITION BY year ORDER BY works DESC, s.subject) <= 3
ORDER BY year, works DESC, s.subject;
