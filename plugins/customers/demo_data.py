"""Word lists of the demo data: French names, trades, streets and real town centres."""

from __future__ import annotations

__all__ = ["FIRST_NAMES", "FREE_ROLES", "MEMOS", "SECTORS", "STREETS", "SUFFIXES", "SURNAMES", "TOWNS", "TRADES"]

SURNAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
    "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Legrand", "Garnier",
    "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Perrin", "Morin", "Mathieu",
    "Clément", "Gauthier", "Dumont", "Fontaine", "Chevalier", "Robin", "Dupré", "Lemaire", "Barbier", "Noël",
)  # fmt: skip

FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Emma", "Jade", "Louise", "Alice", "Lina",
    "Hugo", "Lucas", "Louis", "Gabriel", "Arthur", "Jules", "Nathan", "Théo", "Raphaël", "Adam",
    "Élodie", "Sébastien", "Nicolas", "Isabelle", "Nathalie", "Stéphane", "Céline", "François", "Hélène", "Benoît",
    "Aurélie", "Jérôme", "Sandrine", "Frédéric", "Valérie", "Thierry", "Mathilde", "Clément", "Zoé", "Noémie",
)  # fmt: skip

TRADES = (
    "Électricité", "Plomberie", "Boulangerie", "Menuiserie", "Garage", "Chauffage", "Transports", "Boucherie",
    "Fromagerie", "Cave", "Couverture", "Maçonnerie", "Peinture", "Serrurerie", "Climatisation", "Imprimerie",
    "Pharmacie", "Fleurs", "Carrosserie", "Ébénisterie", "Charpente", "Pâtisserie", "Optique", "Quincaillerie",
)  # fmt: skip

SUFFIXES = ("", "", "", " & Fils", " SARL", " SAS", " et Associés", " Frères")

STREETS = (
    "rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "rue Pasteur", "place de la Mairie",
    "rue du Général de Gaulle", "rue des Écoles", "chemin des Vignes", "avenue de la Gare", "rue Nationale",
    "impasse des Lilas", "allée des Tilleuls", "rue Saint-Martin", "rue du Moulin", "route de la Forêt",
    "rue Émile Zola", "rue de l'Église", "boulevard Gambetta", "rue Voltaire", "quai de la Loire",
)  # fmt: skip

# (city, postal code, latitude, longitude) of real town centres.
TOWNS = (
    ("Paris", "75001", 48.8566, 2.3522), ("Lyon", "69001", 45.7640, 4.8357),
    ("Marseille", "13001", 43.2965, 5.3698), ("Toulouse", "31000", 43.6047, 1.4442),
    ("Nice", "06000", 43.7102, 7.2620), ("Nantes", "44000", 47.2184, -1.5536),
    ("Strasbourg", "67000", 48.5734, 7.7521), ("Montpellier", "34000", 43.6108, 3.8767),
    ("Bordeaux", "33000", 44.8378, -0.5792), ("Lille", "59000", 50.6292, 3.0573),
    ("Rennes", "35000", 48.1173, -1.6778), ("Reims", "51100", 49.2583, 4.0317),
    ("Le Havre", "76600", 49.4944, 0.1079), ("Saint-Étienne", "42000", 45.4397, 4.3872),
    ("Toulon", "83000", 43.1242, 5.9280), ("Grenoble", "38000", 45.1885, 5.7245),
    ("Dijon", "21000", 47.3220, 5.0415), ("Angers", "49000", 47.4784, -0.5632),
    ("Nîmes", "30000", 43.8367, 4.3601), ("Villeurbanne", "69100", 45.7719, 4.8902),
    ("Clermont-Ferrand", "63000", 45.7772, 3.0870), ("Le Mans", "72000", 48.0061, 0.1996),
    ("Aix-en-Provence", "13100", 43.5297, 5.4474), ("Brest", "29200", 48.3904, -4.4861),
    ("Tours", "37000", 47.3941, 0.6848), ("Amiens", "80000", 49.8941, 2.2958),
    ("Limoges", "87000", 45.8336, 1.2611), ("Annecy", "74000", 45.8992, 6.1294),
    ("Perpignan", "66000", 42.6887, 2.8948), ("Metz", "57000", 49.1193, 6.1757),
    ("Besançon", "25000", 47.2378, 6.0241), ("Orléans", "45000", 47.9030, 1.9093),
    ("Rouen", "76000", 49.4432, 1.0999), ("Mulhouse", "68100", 47.7508, 7.3359),
    ("Caen", "14000", 49.1829, -0.3707), ("Nancy", "54000", 48.6921, 6.1844),
    ("Avignon", "84000", 43.9493, 4.8055), ("Poitiers", "86000", 46.5802, 0.3404),
    ("La Rochelle", "17000", 46.1603, -1.1511), ("Pau", "64000", 43.2951, -0.3708),
    ("Bayonne", "64100", 43.4929, -1.4748), ("Chambéry", "73000", 45.5646, 5.9178),
)  # fmt: skip

FREE_ROLES = ("Chef de chantier", "Directeur technique", "Responsable achats", "Gérant", "Assistante de direction")

SECTORS = ("Industrie", "Commerce", "Services", "BTP", "Santé", "Restauration")

MEMOS = (
    "Portail bleu, sonner à l'interphone B.",
    "Accès livraison par l'arrière du bâtiment.",
    "Client exigeant sur les délais : prévenir 48 h avant toute visite.",
    "Chien dans la cour, prévenir avant d'entrer.",
    "Parking visiteurs au sous-sol, code 2478.",
    "Préférer les interventions le matin, le magasin ouvre à 14 h.",
    "Demander M. le gérant à l'accueil, badge visiteur obligatoire.",
    "Compteur électrique dans le local technique au fond du couloir.",
)
