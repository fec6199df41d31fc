-- tandem_assert_state makes a turn a compare-and-swap of its conversation's state
-- (storage.TurnRecord.CheckState): it locks the conversation row for the rest of the
-- transaction and aborts with serialization_failure when the state is no longer the one
-- the turn started from (another replica answered the same customer meanwhile), or with
-- no_data_found when the conversation is gone.
CREATE FUNCTION tandem_assert_state(conv text, prev bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    cur bytea;
BEGIN
    SELECT state INTO cur FROM conversations WHERE id = conv FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % not found', conv USING ERRCODE = 'no_data_found';
    END IF;
    IF cur IS DISTINCT FROM prev THEN
        RAISE EXCEPTION 'conversation % changed since the turn began', conv USING ERRCODE = 'serialization_failure';
    END IF;
END $$;
