-- One replica at a time delivers an account's queue, so its threads reach Zendesk in order.
ALTER TABLE accounts ADD COLUMN delivery_lease_until INTEGER;
