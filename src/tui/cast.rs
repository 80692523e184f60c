//! Recording the interface as an asciicast v2 file.
