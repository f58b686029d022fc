-- A quarantined file gives up its interchange numbers so a corrected re-send can take them.
delete from ops.interchange_seen where sha256 = :sha256
