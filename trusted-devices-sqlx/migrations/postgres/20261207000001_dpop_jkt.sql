-- SPEC section 9: the thumbprint of the key a DPoP-bound device holds; NULL for a bearer device.
ALTER TABLE td_devices ADD COLUMN dpop_jkt TEXT;
