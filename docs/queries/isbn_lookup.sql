-- ISBN look-up: the edition an ISBN-13 (or a converted ISBN-10) belongs to, its work and its authors (by
-- name; by key where the author record is absent), every key resolved through redirects.
SET VARIABLE isbn = '9780670034826';
SELECT isbn13, edition_key, edition_title, publish_year, work_key, work_title, author_names AS authors
FROM isbn_lookup
WHERE isbn13 = getvariable('isbn')
ORDER BY edition_key;
