"""The FHIR R4 read face (`/fhir/r4`): health facilities, their poli and queue sessions, and the
city's agencies as FHIR resources for SATUSEHAT and other health systems. It owns no tables and
reads the health and agencies domains through their service functions."""
