-- An author's works with their ratings (marts: keys resolved through redirects), most rated first.
SET VARIABLE author = 'Mark Twain';
SELECT
    a.author_key,
    w.work_key,
    w.title,
    w.first_publish_year,
    w.rating_count,
    round(w.rating_avg, 2) AS rating_avg
FROM dim_author AS a
JOIN dim_work AS w ON list_contains(w.author_keys, a.author_key)
WHERE a.name = getvariable('author')
ORDER BY w.rating_count DESC, w.work_key;
