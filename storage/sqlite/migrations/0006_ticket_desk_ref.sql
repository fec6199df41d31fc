-- A desk's reference to a ticket's card (tandem.Ticket.DeskRef), looked up when an agent
-- answers in the card's thread.
ALTER TABLE tickets ADD COLUMN desk_ref TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_desk_ref ON tickets (desk_ref) WHERE desk_ref <> '';
