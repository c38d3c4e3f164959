"""The matcher's rules and models: profiles, hard rules, the blended score, ranking, the Ranker, the open
applications held, and runs. No I/O."""
