//! Scripted tours for `parla demo --script`: keys with delays, played into the interface.
