-- What recist_app may do in the recist database (see roles.sql and README).
-- Run as recist_owner after every schema upgrade, e.g.
--   psql -U recist_owner -d recist -f grants.sql
-- tests/store/test_postgresql.py runs this file and the whole app as recist_app.

GRANT USAGE ON SCHEMA public TO recist_app;
GRANT SELECT ON alembic_version TO recist_app;
-- Appended to, never changed: the audit trail, signed versions, patients.
GRANT SELECT, INSERT ON audit_log, reading_versions, patients TO recist_app;
-- Readings and the imaging index change in place (status, revision, file paths).
GRANT SELECT, INSERT, UPDATE ON readings, studies, series, series_files,
    adjudications TO recist_app;
-- A reading's rows, the response cache and the clinical data are also deleted
-- row by row (every change of a reading's rows is in the audit trail).
GRANT SELECT, INSERT, UPDATE, DELETE ON lesions, timepoints, measurements,
    non_target_assessments, new_lesion_observations, cached_assessments,
    clinical_records, adverse_events TO recist_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO recist_app;
