-- Builds are ordered per (app, component): builds of one component run one at a time in request order, the
-- components of one app build in parallel. The claim asks "does this component have a running or older pending job".
CREATE INDEX byop_build_job_component_ix ON byop_build_job (app_id, component, status, seq);

-- Which build job builds which component of a preview, so that a preview claimed again after a crash waits for the
-- jobs it requested before instead of requesting new ones; a redeploy forgets the links of the previous round.
CREATE TABLE byop_preview_build (
  preview_id VARCHAR(64) NOT NULL REFERENCES byop_preview (id) ON DELETE CASCADE,
  component  VARCHAR(63) NOT NULL,
  job_id     VARCHAR(64) NOT NULL REFERENCES byop_build_job (id) ON DELETE CASCADE,
  PRIMARY KEY (preview_id, component)
);

CREATE INDEX byop_preview_build_job_ix ON byop_preview_build (job_id);
