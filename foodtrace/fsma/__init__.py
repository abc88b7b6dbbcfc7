"""FSMA 204 (21 CFR 1 subpart S): the electronic sortable spreadsheet of a lot's records."""
