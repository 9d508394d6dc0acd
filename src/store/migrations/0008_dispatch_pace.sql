-- One token bucket per paced adapter, shared by every dispatcher process on this database: the
-- provider's send rate (Telegram: about 30 messages/s per bot) holds however many dispatchers run.
-- A provider's rate-limit answer drains the bucket below zero, so all of them wait it out together.
CREATE TABLE dispatch_pace (
  adapter text PRIMARY KEY,
  tokens double precision NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
