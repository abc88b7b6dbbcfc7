"""Credit grades A/B/C/D computed from 8 indicators under a versioned policy, penalties,
substantiated-complaint findings and credit repair (信用修复)."""
