"""HL7 v2: a fast reader, DFT^P03/P11 supply usage mapping and ACK writing (pure, no Airflow)."""
