"""The tamper-evident audit trail (rule I2): every state change, hash-chained."""
