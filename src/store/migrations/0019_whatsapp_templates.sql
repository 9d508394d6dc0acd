-- The WhatsApp Business Account's message templates as Meta last listed them (template sync,
-- docs/providers.md): one row per template name and language. Account-wide, not per tenant (the
-- service sends from one business account), so no tenant_id and no row-level security.
CREATE TABLE whatsapp_templates (
  waba_id text NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 512),
  language text NOT NULL CHECK (length(language) BETWEEN 1 AND 32),
  category text NOT NULL,
  status text NOT NULL,
  body_params int NOT NULL CHECK (body_params >= 0),
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (waba_id, name, language)
);
