"""Money: invoices, payments, credit notes, settlement statements and the alliance's rate card."""
