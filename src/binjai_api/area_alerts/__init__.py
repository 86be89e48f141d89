"""Area alerts: residents follow a kelurahan or kecamatan and hear of public reports filed or
resolved there (a push and an inbox entry, at most a few a day, the rest in a daily digest);
and an Atom feed of each kelurahan's public reports for people without the app."""
