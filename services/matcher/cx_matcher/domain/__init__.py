"""The matcher's rules and models: profiles, hard rules, the blended score, ranking and runs. No I/O."""
