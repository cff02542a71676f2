"""Faults on demand: a request carries, in W3C baggage, delays and errors each service injects into itself.

`grammar` parses `fault.<service>[.<route>]=<kind>[:<arg>][;p=<probability>]` strictly; `middleware`
applies a service's own faults to its requests (and, at the edge, drops the client's when they are not
allowed), `routes` those that name a route, `answers` a status, timeout or drop; `db` slows a database
statement inside its span; `record` makes a fault that fired visible on the span, in the log and in
Rollbar. Off unless `FAULTS_ENABLED=true`, never in production.
"""
