-- What personalization made of each order (ReportOrders): produced, with the certificate on
-- the card or in the bundle, or failed for good, with why. A failed card is no card: its order
-- ends, so that the person may be given a new one. A certificate serial is on one order only.
ALTER TABLE registry.card_orders DROP CONSTRAINT card_orders_state_check;
ALTER TABLE registry.card_orders
  ADD CONSTRAINT card_orders_state_check CHECK (state IN ('LAVORAZIONE', 'PRODOTTA', 'FALLITA')),
  ADD COLUMN certificate_serial text,  -- lower-case hex, when PRODOTTA
  ADD COLUMN failure text,             -- why, when FALLITA
  ADD COLUMN outcome_at timestamptz,
  ADD COLUMN outcome_by text,          -- the daemon that reported it: <service>/<worker>
  ADD CONSTRAINT card_orders_outcome CHECK (
    (state = 'LAVORAZIONE' AND outcome_at IS NULL AND certificate_serial IS NULL
       AND failure IS NULL)
    OR (state = 'PRODOTTA' AND outcome_at IS NOT NULL AND certificate_serial IS NOT NULL
       AND failure IS NULL)
    OR (state = 'FALLITA' AND outcome_at IS NOT NULL AND failure IS NOT NULL
       AND certificate_serial IS NULL AND ended_at IS NOT NULL));
CREATE UNIQUE INDEX card_orders_certificate ON registry.card_orders (certificate_serial)
  WHERE certificate_serial IS NOT NULL;

ALTER TABLE registry.workstation_orders DROP CONSTRAINT workstation_orders_state_check;
ALTER TABLE registry.workstation_orders
  ADD CONSTRAINT workstation_orders_state_check
    CHECK (state IN ('LAVORAZIONE', 'PRODOTTA', 'FALLITA')),
  ADD COLUMN certificate_serial text,
  ADD COLUMN failure text,
  ADD COLUMN outcome_at timestamptz,
  ADD COLUMN outcome_by text,
  ADD CONSTRAINT workstation_orders_outcome CHECK (
    (state = 'LAVORAZIONE' AND outcome_at IS NULL AND certificate_serial IS NULL
       AND failure IS NULL)
    OR (state = 'PRODOTTA' AND outcome_at IS NOT NULL AND certificate_serial IS NOT NULL
       AND failure IS NULL)
    OR (state = 'FALLITA' AND outcome_at IS NOT NULL AND failure IS NOT NULL
       AND certificate_serial IS NULL));
CREATE UNIQUE INDEX workstation_orders_certificate
  ON registry.workstation_orders (certificate_serial) WHERE certificate_serial IS NOT NULL;
