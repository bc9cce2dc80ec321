// Package config owns the gateway's startup settings: the one Config struct,
// its defaults (declared once, in Default), the command-line flags and the
// WSG_* environment variables that override them, and Validate, which reports
// every problem at once so an operator fixes a bad deployment in one pass.
// It imports nothing of ours and does no I/O beyond reading what it is given.
package config
