-- Tear-down is a recorded status (STOPPING, claimed with a lease like a deployment), and which cloud host holds a
-- slot for which preview is stored, so that a restart reaches the host and counts the slot.

ALTER TABLE byop_preview DROP CONSTRAINT byop_preview_status_ck;
ALTER TABLE byop_preview ADD CONSTRAINT byop_preview_status_ck
  CHECK (status IN ('BUILDING', 'DEPLOYING', 'RUNNING', 'FAILED', 'STOPPING', 'STOPPED'));
ALTER TABLE byop_preview DROP CONSTRAINT byop_preview_lease_status_ck;
ALTER TABLE byop_preview ADD CONSTRAINT byop_preview_lease_status_ck
  CHECK (lease_owner IS NULL OR status IN ('BUILDING', 'DEPLOYING', 'STOPPING'));

CREATE TABLE byop_host_lease (
  preview_id  VARCHAR(64)  NOT NULL PRIMARY KEY REFERENCES byop_preview (id) ON DELETE CASCADE,
  host_id     VARCHAR(253) NOT NULL,
  acquired_at TIMESTAMP WITH TIME ZONE NOT NULL,
  CONSTRAINT byop_host_lease_host_ck CHECK (CHAR_LENGTH(host_id) >= 1)
);

CREATE INDEX byop_host_lease_host_ix ON byop_host_lease (host_id);
