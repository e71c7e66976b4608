"""Planted fault: pong and ping import each other (a cycle)."""

from plant.mid import ping

NAME = "pong"
OTHER = ping
