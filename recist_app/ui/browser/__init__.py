"""Patient browser, DICOM import, timepoints and background loading."""
