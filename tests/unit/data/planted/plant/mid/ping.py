"""Planted fault: ping and pong import each other (a cycle)."""

from plant.mid import pong

NAME = "ping"
OTHER = pong
