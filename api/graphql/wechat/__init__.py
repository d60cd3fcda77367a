"""The tenant's WeChat apps (Official Account, mini-program): admin settings."""
