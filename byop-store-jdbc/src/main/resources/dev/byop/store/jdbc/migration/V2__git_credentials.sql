-- An app's own git credentials for a component's source: a user name and a reference to the token (env:NAME or
-- file:PATH), never the token itself. Both or neither.
ALTER TABLE byop_component ADD COLUMN git_username VARCHAR(200);
ALTER TABLE byop_component ADD COLUMN git_token_ref VARCHAR(2000);
ALTER TABLE byop_component ADD CONSTRAINT byop_component_git_token_ck
  CHECK (git_token_ref IS NULL OR git_token_ref LIKE 'env:%' OR git_token_ref LIKE 'file:%');
ALTER TABLE byop_component ADD CONSTRAINT byop_component_git_credentials_ck
  CHECK ((git_username IS NULL AND git_token_ref IS NULL) OR (git_username IS NOT NULL AND git_token_ref IS NOT NULL));
