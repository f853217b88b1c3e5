"""Talking to Open Library: releases, dump downloads, and re-chunking a dump into parts."""
