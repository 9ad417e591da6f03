-- Every status change of a build job writes each index that holds the status column. (app_id, status, seq) is
-- covered by byop_build_job_component_ix (app_id, component, status, seq) for every query that filters by app_id
-- (deleteApp's running count; listBuildJobs sorts by seq, which neither index serves past app_id), so it only cost
-- one index write per UPDATE (issue 14).
DROP INDEX byop_build_job_app_ix;
