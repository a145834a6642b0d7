"""A short written account the platform tests paste."""

ACCOUNT = (
    "Symptoms:\n- 502s on checkout\n- p99 at 4s\n"
    "Root cause: conntrack table full on the LB nodes\n"
    "Diagnostic path:\n- Checked the LB: all targets equally bad\n- Rolled back 4.12, no change"
)
