-- A partner's events in the order they were recorded, for reading on from
-- a cursor (GET /v1/events?order=oldest_first&after=…): an index on
-- partner_id alone keeps its entries in rowid order within a partner, so
-- `partner_id = ? AND rowid > ? ORDER BY rowid` is one range, never a sort.

CREATE INDEX events_by_partner_in_order ON events (partner_id);
