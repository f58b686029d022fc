select mark from ops.source_watermark where source = :source
