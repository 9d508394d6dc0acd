-- WhatsApp 24-hour customer-service window, per tenant and recipient: the time of the last inbound
-- message. A free-text send is allowed only within 24 h of it; outside, Meta wants a template.
CREATE TABLE whatsapp_windows (
  tenant_id text NOT NULL REFERENCES tenants(id),
  -- Meta's wa_id: the phone number in digits, without the plus sign.
  wa_id text NOT NULL CHECK (wa_id ~ '^[0-9]{5,20}$'),
  last_inbound_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, wa_id)
);
