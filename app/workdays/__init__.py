"""Chinese working days: holidays and make-up workdays, from chinesecalendar and the admin's own table."""
