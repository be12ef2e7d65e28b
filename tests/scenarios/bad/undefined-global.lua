-- A misspelt constructor reads an undefined global.
scenario { name = "undefined-global", duration = "1min" }
hsot { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
