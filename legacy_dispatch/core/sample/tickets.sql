-- Sample legacy data for the pre-flight run: a few departments, customers and
-- open field tickets showing every mapping rule (and some bad input).
INSERT INTO dept (id, name, default_staff) VALUES
	(1, 'Installation', 3301), (2, 'Réparation', 3301), (3, 'Fibre', 3301),
	(4, 'ToDo', NULL), (5, 'Support Informatique', NULL), (6, 'Retrait', 3301);

INSERT INTO staff (id, username, first_name, last_name, dept_id) VALUES
	(12, 'jboucher', 'Julie', 'Boucher', 5);

INSERT INTO account (id, first_name, last_name, address1, city, zip) VALUES
	(1001, 'Marie', 'Tremblay', '12 rue Principale', 'SAINT-JÉRÔME', 'J7Z 1A1'),
	(1002, 'Luc', 'Gagnon', '450 boul. Labelle', 'Blainville', 'J7C 2H4'),
	(1003, 'Sophie', 'Roy', '8 chemin du Lac', 'Mirabel', 'J7J 1B3'),
	(1004, 'Paul', 'Côté', '77 rue des Érables', 'Sainte-Thérèse', 'J7E 3K2');

-- due dates are epochs: 1795442400 = 2026-11-23 09:00 Toronto, 1795494600 = 2026-11-23 23:30
-- Toronto (already 2026-11-24 in UTC), 1795525200 = 2026-11-24 08:00 Toronto
INSERT INTO ticket (id, account_id, dept_id, subject, status, priority, assign_to, due_date, due_time, date_create, last_update) VALUES
	(5001, 1001, 1, 'Installation fibre 1 Gb/s', 'open', 2, 3301, 1795442400, '09:30', 1795186800, 1795186800),
	(5002, 1002, 2, 'Perte de signal intermittente', 'open', 3, 3301, 1795494600, 'pm', 1795186800, 1795345200),
	(5003, 1003, 3, 'Remplacement du modem', 'open', 1, 3301, 1795525200, ' AM ', 1795186800, 1795186800),
	(5004, 0, 4, 'Inventaire camion', 'open', 2, 3301, 0, 'day', 1795186800, 1795186800),
	(5005, 1004, 6, 'Retrait équipement fin de contrat', 'open', 0, 3301, 1795525200, '9h30', 1795186800, 1795186800),
	(5006, 1001, 2, 'Client rapporte une coupure complète du service depuis la tempête de samedi soir; vérifier le boîtier extérieur, la jarretière et remplacer le convertisseur si nécessaire', 'open', 9, 3301, -5, NULL, 1795186800, 1795186800),
	(5007, 1002, 1, NULL, 'open', 2, 3301, 1795442400, '', 1795186800, 1795186800),
	(5008, 1003, 2, 'Déjà réglé', 'closed', 2, 3301, 1795442400, 'am', 1795186800, 1795345200),
	(5009, 1004, 5, 'Mot de passe courriel', 'open', 2, 12, 0, NULL, 1795186800, 1795186800);
