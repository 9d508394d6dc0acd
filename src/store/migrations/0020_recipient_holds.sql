-- A provider's rate limit on one recipient (WhatsApp 131056, the business-consumer pair limit),
-- shared by every dispatcher process on this database: the claim leaves the rows of a held
-- (adapter, target) where they are until hold_until, so no process sends to that customer before
-- the provider's wait is over. Rows to other customers go on. Only live holds matter: an expired one
-- is overwritten by the next hold of its recipient or deleted when another hold is written.
CREATE TABLE recipient_holds (
  adapter text NOT NULL,
  target text NOT NULL,
  hold_until timestamptz NOT NULL,
  PRIMARY KEY (adapter, target)
);
