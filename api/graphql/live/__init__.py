"""Subscriptions (`graphql-transport-ws`): live transitions, customer timelines, operation progress."""
