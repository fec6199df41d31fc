package lang

import "testing"

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct{ text, want string }{
		{"Where is my order? It was supposed to arrive yesterday.", "en"},
		{"I want to cancel my card", "en"},
		// English words shared with Spanish ("no") and letters inside links once read as other languages.
		{"@united no wheelchairs", "en"},
		{"@JetBlue great flight http://t.co/E0R0NTO4TR", "en"},
		{"@AmericanAir you're almost as bad as @united", "en"},
		{"No funciona mi tarjeta", "es"},
		{"¿Dónde está mi pedido? Quiero cancelar la tarjeta", "es"},
		{"Hola, necesito ayuda con mi cuenta", "es"},
		{"Bonjour, je voudrais annuler ma commande s'il vous plaît", "fr"},
		{"Où est ma carte ? Elle n'est pas arrivée", "fr"},
		{"Hallo, ich habe meine Karte verloren und brauche Hilfe", "de"},
		{"Wo ist meine Bestellung? Sie ist nicht angekommen", "de"},
		{"今日は雨が降りますか？", "ja"},
		{"アラームを7時にセットして", "ja"},
		{"我的订单在哪里", "zh"},
		{"Где мой заказ?", "ru"},
		{"12345", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Detect(tt.text); got != tt.want {
			t.Errorf("Detect(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}
