-- What the customer's page said of itself (`Tandem.setContext`): the JSON text of an object,
-- shown to the agent as not verified.
ALTER TABLE conversations ADD COLUMN page_context TEXT;
