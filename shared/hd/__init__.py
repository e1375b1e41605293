"""The Human Design domain (`../shared/hd/SPEC.md` sections 2, 4 and 5), defined once.

Plain data and pure functions, no I/O, used by every service that speaks of a chart:

- `gates`: the 64 gates and their order on the wheel;
- `lines`: the six lines;
- `centers`: the nine centers, their gates and the motors;
- `channels`: the 36 channels, their gates and centers;
- `properties`: the values of type, strategy, authority and definition;
- `profiles`: the twelve profiles and the cross angle each implies;
- `crosses`: the cross angles and the incarnation cross;
- `derive`: what a chart's gates define (channels, centers, type, strategy, authority,
  definition) and its profile and cross.

The chart service computes with it, the reader's knowledge base is text keyed by it and
the status service's bodygraph picture draws from it.
"""
