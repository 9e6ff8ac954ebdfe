-- Smart-contract account wallets (accountType SCA): a Safe owned by the wallet's sealed key.
-- `address` is the Safe's counterfactual address; `owner_address` the key's own address (its
-- one owner); `sca_core` the account implementation (latchkey_safe_v141_4337_v030). Both NULL
-- for EOA wallets.
ALTER TABLE wallets ADD COLUMN sca_core TEXT;
ALTER TABLE wallets ADD COLUMN owner_address TEXT;
