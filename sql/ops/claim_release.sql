-- A quarantined file gives up its identities so a corrected re-send can take them.
delete from ops.business_claim where sha256 = :sha256
