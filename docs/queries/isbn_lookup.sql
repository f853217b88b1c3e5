-- ISBN look-up: the edition an ISBN-13 (or a converted ISBN-10) belongs to, its work and the work's authors
-- (by name; by key where the author record is absent).
SET VARIABLE isbn = '9780670034826';
SELECT
    i.isbn13,
    e.edition_key,
    e.title AS edition_title,
    e.publish_year,
    w.work_key,
    w.title AS work_title,
    list(coalesce(a.name, wa.author_key) ORDER BY wa.ordinal)
        FILTER (WHERE wa.author_key IS NOT NULL) AS authors
FROM edition_isbns AS i
JOIN editions AS e USING (edition_key)
LEFT JOIN works AS w USING (work_key)
LEFT JOIN work_authors AS wa USING (work_key)
LEFT JOIN authors AS a USING (author_key)
WHERE i.isbn13 = getvariable('isbn')
GROUP BY ALL;
