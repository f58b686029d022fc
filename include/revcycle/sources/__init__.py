"""One module per inbound source: how its files are parsed, checked and posted."""
