-- Each reading belongs to the API key (tenant) that created it; other keys
-- never see it. NULL = created while auth was off (development).
ALTER TABLE readings ADD COLUMN tenant text;
DROP INDEX readings_user_created;
CREATE INDEX readings_tenant_user_created
    ON readings (tenant, user_id, created_at DESC, id DESC);
