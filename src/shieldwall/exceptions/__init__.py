"""Risk exceptions: accepting a finding's risk until a date, decided by whom the policy names."""
