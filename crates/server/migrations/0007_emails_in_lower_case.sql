-- Agents' emails are compared whatever their case: the store writes and looks them up in lower
-- case. Those stored before are lowered here, unless that would make two agents one (both
-- spellings stored): those are left as they are.
UPDATE OR IGNORE agents SET email = lower(trim(email));
