"""Closing the loop: routing rules that turn answers into cases for named people."""
