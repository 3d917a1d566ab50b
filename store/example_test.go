package store_test

import (
	"fmt"
	"log"
	"time"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

func ExampleStore_Update() {
	s, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	pod := &model.Pod{
		ID:        "4f3c2a1b",
		Name:      "web",
		Owner:     model.Owner{UID: 1000, Tenant: "acme"},
		CreatedAt: time.Now(),
	}
	created := &model.Event{Type: "pod", Action: "create", ID: pod.ID, Name: pod.Name}
	err = s.Update(func(tx *store.Tx) error {
		if err := tx.PutPod(pod); err != nil {
			return err
		}
		return tx.AppendEvent(created)
	})
	if err != nil {
		log.Fatal(err)
	}

	err = s.View(func(tx *store.Tx) error {
		found, err := tx.LookupPod("acme", "4f3")
		if err != nil {
			return err
		}
		fmt.Println(found.Name, created.Seq)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: web 1
}
